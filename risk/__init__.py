"""Grid risk assessment: imported layers, analysis grid, composite risk, capacity and gaps."""

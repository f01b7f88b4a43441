"""Prices of essential goods in emergencies (价格异常预警): observations, baselines, alerts and
public complaints."""

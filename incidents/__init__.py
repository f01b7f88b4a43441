"""Incidents, dispatch of rescue teams, requisitions and compensation."""

"""Folium page builders and map-layer endpoints: pure render and analysis code."""

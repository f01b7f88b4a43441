"""OGC API – Features for GIS clients (/ogc)."""

"""Open311 GeoReport v2 API: reads, submissions, media, API keys."""

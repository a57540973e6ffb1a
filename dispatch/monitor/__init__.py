"""Monitor: response times, the three rates (三率), what is late, for the street office, the district and directors."""

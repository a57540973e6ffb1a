"""SLA clocks: policies, the working calendar, the pure clock and the sweep."""

"""The ratings a resolution can get, as pure data: the services that keep ratings and the monitor that counts them
both read them here (no Flask, no database)."""

# Stored value → the name residents and staff see.
RATINGS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}
# The ratings 满意率 counts as satisfied, in the order the formula names them.
SATISFIED = ("satisfied", "basically_satisfied")

"""Pure policy code: escalation ladders (and, later, priority and digest rules)."""

"""Pure policy code on top of core: escalation ladders and the deadline board that applies them,
access rules, priority and backlog folding. Imports core, never a shell."""

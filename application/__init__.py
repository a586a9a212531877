"""Use cases: the event-sourced application, the dispatcher and the action executors."""

"""Pure domain of gateway-scheduler: the Job aggregate, schedules, actions and their errors."""

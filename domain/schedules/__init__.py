"""Schedule arithmetic: validate schedule params and compute fire instants, pure and clock-free."""

from .calendar import DailySchedule, MonthlySchedule, WeeklySchedule
from .catalog import SCHEDULE_TYPES, Location, Schedule, parse_schedule
from .cron import CronSchedule
from .interval import IntervalSchedule
from .localtime import supported_instant
from .once import OnceSchedule
from .solar import SolarSchedule

__all__ = [
    "SCHEDULE_TYPES",
    "CronSchedule",
    "DailySchedule",
    "IntervalSchedule",
    "Location",
    "MonthlySchedule",
    "OnceSchedule",
    "Schedule",
    "SolarSchedule",
    "WeeklySchedule",
    "parse_schedule",
    "supported_instant",
]

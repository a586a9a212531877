"""The server-rendered page (/scheduler-automation) and its sign-in: routes, the data it embeds."""

"""Moving job sets between gateways: the export and import files (`files`) and the two use cases
the API and the CLI share (`operations`)."""

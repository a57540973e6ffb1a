"""Tickets: the model, the lifecycle, the classifier, the services, the API and the console."""

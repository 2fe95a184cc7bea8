"""Views: text, plots, progress, the HTML report and the MLflow export, made from stored runs."""

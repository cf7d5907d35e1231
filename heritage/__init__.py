"""Annotations, measurements, project documents, exports and monitoring. No Qt, no VTK."""

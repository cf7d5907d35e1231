"""RealScene viewer: scene model (no Qt), renderer adapter (VTK), Qt app, CLI."""

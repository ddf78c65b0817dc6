"""SpiffWorkflow extensions: our parser, clocked timers and the pinned-spec serializer."""

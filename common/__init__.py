"""Code shared by the meter and the PV simulator: settings, wire schema, topology, clock, AMQP plumbing."""

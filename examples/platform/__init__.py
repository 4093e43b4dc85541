"""An example city platform (吉安市) in a layout of its own, to point the cockpit at by bindings."""

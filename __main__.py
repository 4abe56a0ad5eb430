"""Open Banking landing zone: validate this stack's environment config, then build it."""

import pulumi

from environments.environment import Environment, load_stack_config

config = load_stack_config()
environment = Environment(config.name, config)
for key, value in environment.exports.items():
    pulumi.export(key, value)

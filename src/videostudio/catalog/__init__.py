"""The model catalog: every model, its options, rules and prices, from one declarative file."""

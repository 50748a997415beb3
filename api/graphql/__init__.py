"""GraphQL at ``/graphql`` (Strawberry): the same simulations and live results as REST, plus subscriptions."""

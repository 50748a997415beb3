"""What keeps one GraphQL request cheap and its failures quiet.

- :class:`MaskUnexpected`: an unexpected error reaches the client as "internal error" with a
  request id (in the message and in ``extensions.request_id``); the service logs it with the
  traceback under the same id. Errors that answer bad input pass unchanged.
- :func:`one_mutation_field`: a mutation may select one field (``runSimulation`` aliased 100
  times would run 100 power flows).
- :func:`cost_limit`: a query's estimated cost, each field weighing 1 times the list sizes
  it sits in (``limit`` arguments, or a default for lists without one), must stay under a cap.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import MaskErrors, SchemaExtension

from api.errors import new_request_id

log = logging.getLogger(__name__)

UNLIMITED_LIST_SIZE = 100
"""Assumed length of a list field without a ``limit`` argument (a day of intervals has 1,440 at
60 s, but a client asks few of them in one request; the depth limit bounds the nesting)."""


class MaskUnexpected(MaskErrors):
    """Strawberry's ``MaskErrors`` for errors not in ``expected``, logged with a request id sent to the client."""

    def __init__(self, expected: tuple[type[BaseException], ...]) -> None:
        super().__init__(should_mask_error=self._unexpected)
        self.expected = expected

    def _unexpected(self, error: GraphQLError) -> bool:
        return error.original_error is not None and not isinstance(error.original_error, self.expected)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = new_request_id()
        original = error.original_error
        log.error("GraphQL request %s: unexpected error at %s", request_id, ".".join(map(str, error.path or ())),
                  exc_info=(type(original), original, original.__traceback__) if original else None)
        return GraphQLError(message=f"internal error (request id {request_id}, logged by the service)",
                            nodes=error.nodes, source=error.source, positions=error.positions, path=error.path,
                            original_error=None, extensions={"request_id": request_id})


def _fields(selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None,
            fragments: dict[str, FragmentDefinitionNode], schema: GraphQLSchema,
            seen: frozenset[str] = frozenset()) -> Iterator[tuple[FieldNode, GraphQLOutputType | None]]:
    """The fields of ``selection_set`` with their types on ``parent``, fragments spread in (once per path)."""
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            fields = parent.fields if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) else {}
            definition = fields.get(selection.name.value)
            yield selection, definition.type if definition else None
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            inner = schema.get_type(condition.name.value) if condition else parent
            yield from _fields(selection.selection_set, inner, fragments, schema, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:
                fragment = fragments[name]
                yield from _fields(fragment.selection_set, schema.get_type(fragment.type_condition.name.value),
                                   fragments, schema, seen | {name})


def _fragments(context: ValidationContext) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in context.document.definitions if isinstance(d, FragmentDefinitionNode)}


def _operations(context: ValidationContext) -> Iterator[tuple[OperationDefinitionNode, GraphQLObjectType | None]]:
    roots = {OperationType.QUERY: context.schema.query_type, OperationType.MUTATION: context.schema.mutation_type,
             OperationType.SUBSCRIPTION: context.schema.subscription_type}
    return ((d, roots[d.operation]) for d in context.document.definitions if isinstance(d, OperationDefinitionNode))


def one_mutation_field() -> type[ValidationRule]:
    """A validation rule: a mutation operation selects at most one field."""

    class OneMutationField(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            fragments = _fragments(context)
            for operation, root in _operations(context):
                if operation.operation == OperationType.MUTATION:
                    count = sum(1 for _ in _fields(operation.selection_set, root, fragments, context.schema))
                    if count > 1:
                        context.report_error(GraphQLError(
                            f"mutation field limit: {count} fields in one mutation, at most 1 allowed "
                            "(send one request per simulation)", operation))

    return OneMutationField


def _list_size(field: FieldNode, variables: dict[str, Any]) -> int:
    """The ``limit`` argument of ``field`` (literal or variable), else :data:`UNLIMITED_LIST_SIZE`."""
    for argument in field.arguments or ():
        if argument.name.value == "limit":
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(1, int(value.value))
            if isinstance(value, VariableNode) and isinstance(variables.get(value.name.value), int):
                return max(1, int(variables[value.name.value]))
    return UNLIMITED_LIST_SIZE


def query_cost(selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None, schema: GraphQLSchema,
               fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any], multiplier: int = 1,
               depth: int = 0) -> int:
    """Estimated cost of ``selection_set`` on type ``parent``: each field 1 x the sizes of the lists around it.

    A list-typed field multiplies what it selects by its ``limit`` argument (a literal or a
    variable) or, without one, by :data:`UNLIMITED_LIST_SIZE`. The depth limit applies
    separately; ``depth`` only stops a pathological document from recursing without end.
    """
    total = 0
    for field, field_type in _fields(selection_set, parent, fragments, schema):
        total += multiplier
        if field.selection_set is None or depth > 32:
            continue
        inner = multiplier
        unwrapped = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
        if isinstance(unwrapped, GraphQLList):
            inner *= _list_size(field, variables)
        total += query_cost(field.selection_set, get_named_type(field_type), schema, fragments, variables, inner,
                            depth + 1)
    return total


def cost_limit(max_cost: int, variables: dict[str, Any]) -> type[ValidationRule]:
    """A validation rule: every operation's :func:`query_cost` (with these ``variables``) is at most ``max_cost``."""

    class CostLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            fragments = _fragments(context)
            for operation, root in _operations(context):
                cost = query_cost(operation.selection_set, root, context.schema, fragments, variables)
                if cost > max_cost:
                    context.report_error(GraphQLError(
                        f"query cost limit: estimated cost {cost} is over {max_cost} (each field counts once per "
                        "row of the lists around it; ask for smaller limits or fewer fields)", operation))

    return CostLimit


class RequestLimits(SchemaExtension):
    """Adds :func:`one_mutation_field` and :func:`cost_limit` (which needs the request's variables) to validation."""

    def __init__(self, max_cost: int) -> None:
        self.max_cost = max_cost

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = (*context.validation_rules, one_mutation_field(),
                                    cost_limit(self.max_cost, dict(context.variables or {})))
        yield

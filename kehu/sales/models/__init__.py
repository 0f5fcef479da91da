"""The sales models, one module per aggregate."""

from .assignment import AssignmentRule, UserAvailability
from .leads import ConversionFieldMap, Lead
from .opportunities import (
    Opportunity,
    OpportunityContactRole,
    OpportunityLine,
    OpportunityTeamMember,
    StageHistory,
)
from .pipelines import Pipeline, Stage
from .pools import Pool, PoolClaimCounter, PoolHistory, PoolItem
from .targets import Target

__all__ = [
    "AssignmentRule",
    "ConversionFieldMap",
    "Lead",
    "Opportunity",
    "OpportunityContactRole",
    "OpportunityLine",
    "OpportunityTeamMember",
    "Pipeline",
    "Pool",
    "PoolClaimCounter",
    "PoolHistory",
    "PoolItem",
    "Stage",
    "StageHistory",
    "Target",
    "UserAvailability",
]

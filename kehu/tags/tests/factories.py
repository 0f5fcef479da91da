"""Factories for tags, tag groups and static groups (rows written directly, like the customers
factories: the services check the acting user's permissions, which tests set up separately)."""

from __future__ import annotations

from typing import Any

import factory

from kehu.users.tests.factories import UserFactory

from ..models import StaticGroup, StaticGroupMember, Tag, TaggedItem, TagGroup


class TagGroupFactory(factory.django.DjangoModelFactory[TagGroup]):
    class Meta:
        model = TagGroup

    name = factory.Sequence(lambda n: f"标签组{n}")
    colour = "azure"
    order = factory.Sequence(lambda n: n)


class TagFactory(factory.django.DjangoModelFactory[Tag]):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"标签{n}")
    colour = "blue"
    group = None
    order = factory.Sequence(lambda n: n)


class TaggedItemFactory(factory.django.DjangoModelFactory[TaggedItem]):
    """``TaggedItemFactory(tag=..., obj=account)``."""

    class Meta:
        model = TaggedItem
        exclude = ("obj",)

    tag = factory.SubFactory(TagFactory)
    obj: Any = None
    model = factory.LazyAttribute(lambda o: o.obj._meta.label_lower)
    object_id = factory.LazyAttribute(lambda o: o.obj.pk)


class StaticGroupFactory(factory.django.DjangoModelFactory[StaticGroup]):
    class Meta:
        model = StaticGroup

    name = factory.Sequence(lambda n: f"分组{n}")
    model = "customers.account"
    owner = factory.SubFactory(UserFactory)


class StaticGroupMemberFactory(factory.django.DjangoModelFactory[StaticGroupMember]):
    class Meta:
        model = StaticGroupMember

    group = factory.SubFactory(StaticGroupFactory)
    object_id = 0

from __future__ import annotations

import factory

from kehu.notifications.models import Notification
from kehu.users.tests.factories import UserFactory


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Notification {n}")
    body = "Something happened."
    url = "/jobs/"
    kind = "test"

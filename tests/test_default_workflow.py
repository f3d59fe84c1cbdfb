"""An entity's default workflow gives every new case its first state: a business admin may edit it
but not delete it (deleting it would leave registration with no state to start in)."""
from __future__ import annotations

from django.urls import reverse

from lowcode.models import Workflow


def test_the_default_workflow_cannot_be_deleted_but_a_case_type_workflow_can(metadata, client_for):
    c = client_for("demo_config")
    default = Workflow.objects.get(entity="case", scope_value="")
    assert c.get(reverse("admin:lowcode_workflow_delete", args=[default.pk])).status_code == 403
    assert c.post(reverse("admin:lowcode_workflow_delete", args=[default.pk]), {"post": "yes"}).status_code == 403
    assert Workflow.objects.filter(pk=default.pk).exists()
    assert c.get(reverse("admin:lowcode_workflow_change", args=[default.pk])).status_code == 200

    listing = c.get(reverse("admin:lowcode_workflow_changelist")).content.decode()
    assert "delete_selected" not in listing

    special = Workflow.objects.create(entity="case", scope_value="labor", states=default.states,
                                      transitions=default.transitions, state_field=default.state_field)
    assert c.get(reverse("admin:lowcode_workflow_delete", args=[special.pk])).status_code == 200
    c.post(reverse("admin:lowcode_workflow_delete", args=[special.pk]), {"post": "yes"})
    assert not Workflow.objects.filter(pk=special.pk).exists()

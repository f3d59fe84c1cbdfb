"""Thin domain models hooked onto engine events (duplicate case, case escalation, party warning).
Rules, thresholds and weights come from metadata. Filled by the data-model issue."""

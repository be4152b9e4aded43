"""Telephony providers behind one interface (`base.Provider`).

`factory.build(name, ...)` makes one; the composition root (handlers/wiring.py) builds
each once per cold start. A workspace names its provider (`Workspace.telephony_provider`);
without one, the deployment's default (`TELEPHONY_PROVIDER`, `simulated` when unset).

The simulated provider places calls through its queue and verifies callbacks with the
key of the deployment's simulator secret. The real ones read their settings and
credentials from the telephony secret (`credentials.py`) and give providers the API's
public URL for status callbacks.
"""

"""The service layer between the HTTP routes and the pure procedure.

* ``auth``: wallet sign-in (EIP-4361 message, EIP-191 signature, hashed session tokens)
  and the per-process ``SessionCache`` of live tokens
* ``steps``: signed record → procedure command (the step vocabulary)
* ``cases``: ``CaseService`` (open cases, submit steps in one transaction, scheduler,
  courts) — the interface other parts call (evidence upload submits its
  ``EvidenceSubmission`` through ``CaseService.submit_step``)
* ``group_commit``: concurrent steps sharing one transaction and one commit (SQLite)
* ``views``: what each role may read
* ``keys``: ``ServiceKey``, the service's X25519 key; every data key at rest is wrapped
  for it (evidence, confidential step bundles, documents)
* ``escrow``: the escrow port: one typed method per act of the contract, its payloads,
  events and refusals; ``escrow_fake``: an in-memory model of the contract for fast tests
  (the web3 implementation is ``backend.gateway.escrow``)
* ``chain``: chain actions (typed acts stored as rows) and their executor
* ``errors``: ``ServiceError`` and its subclasses
"""

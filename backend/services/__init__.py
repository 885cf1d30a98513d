"""The service layer between the HTTP routes and the pure procedure.

* ``auth``: wallet sign-in (EIP-4361 message, EIP-191 signature, hashed session tokens)
  and the per-process ``SessionCache`` of live tokens
* ``steps``: signed record → procedure command (the step vocabulary)
* ``cases``: ``CaseService``, the thin facade other parts hold (open cases, submit steps,
  the scheduler, courts); it wires the parts below (evidence upload submits its
  ``EvidenceSubmission`` through ``CaseService.submit_step``)
* ``pipeline``: a signed step in stages (decode, authorize, locate, translate, apply,
  admit, persist, interpret effects, after commit)
* ``repository``: load, lock and save cases; the state caches; the process's writer queue
* ``transactions``: a step's transaction (group commit on both databases; on PostgreSQL
  under each case's row lock); ``group_commit``: concurrent units sharing one transaction
  and one commit
* ``step_store``: a step's rows, IPFS bundle (encrypted when confidential) and Merkle leaf
* ``effects``: the procedure's effects by type, into chain actions, notices and events
* ``scheduler``: defaults after missed deadlines, the enforcement record after a payout
* ``courts``: court registration and access (the ``appoint.court`` step)
* ``institution``: the institution key that signs the service's own records
* ``rotation``: handing the institution over to a new key (a signed, anchored step in every
  case; the escrow's rotation; data keys rewrapped)
* ``views``: what each role may read
* ``keys``: ``ServiceKey``, the service's X25519 key; every data key at rest is wrapped
  for it (evidence, confidential step bundles, documents)
* ``escrow``: the escrow port: one typed method per act of the contract, its payloads,
  events and refusals; ``escrow_fake``: an in-memory model of the contract for fast tests
  (the web3 implementation is ``backend.gateway.escrow``)
* ``chain``: chain actions (typed acts stored as rows) and their executor
* ``errors``: ``ServiceError`` and its subclasses
"""

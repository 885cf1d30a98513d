"""The institution key the test worlds pass to ``Settings`` explicitly.

Generated afresh in each test process (never a key written in the source: the service
refuses published keys, and ``chainarb verify`` fails packages signed with one).
"""

from __future__ import annotations

from eth_account import Account

INSTITUTION = Account.create()
INSTITUTION_KEY = "0x" + bytes(INSTITUTION.key).hex()

"""The assessor pool's page (``/ui/pool``) and ``POST /pool/prepare``, over HTTP against the
live page world: the steps are prepared by the service, signed with the test keys exactly
as the page's wallet does (EIP-712) and posted through the pages' own proxy.

Attacks are tests: a non-admin preparing an admission, an unknown action, an admission
that misses the criteria, a suspension of someone who never applied, a payload other than
the prepared one posted.
"""

from __future__ import annotations

import subprocess
from typing import Any

import httpx
import pytest
from eth_account import Account

from backend.jury import pool_from_records
from backend.web import COOKIE
from evidence.records import SignedRecord
from tests.backend.web.visible import problems
from tests.backend.web.web_world import REPO, WebWorld, declare_profile, key


def _get(world: WebWorld, path: str, who: str) -> str:
    r = httpx.get(world.base + path, cookies={COOKIE: world.token(who)}, timeout=30)
    assert r.status_code == 200, r.text
    return r.text


def _api(world: WebWorld, who: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(world.base + "/ui/api/" + path, json=body, timeout=30,
                      cookies={COOKIE: world.token(who)}, headers={"X-Chainarb-UI": "1"})


def _step(world: WebWorld, who: str, action: str, payload: dict[str, Any],
          posted: dict[str, Any] | None = None) -> httpx.Response:
    """Prepare through the proxy, sign as the wallet would, post; the answer of the post."""
    prep = _api(world, who, "pool/prepare", {"action": action, "payload": payload})
    assert prep.status_code == 200, prep.text
    p = prep.json()
    assert p["typedData"]["message"]["action"] == action and p["payload"] == payload
    sig = Account.sign_typed_data(key(who).key, full_message=p["typedData"]).signature
    record = {**p["unsignedRecord"], "signatures": ["0x" + bytes(sig).hex()]}
    return _api(world, who, p["endpoint"].lstrip("/"),
                {"record": record, "payload": posted or p["payload"]})


def _refused(r: httpx.Response, status: int, code: str) -> None:
    assert (r.status_code, r.json().get("code")) == (status, code), r.text


@pytest.fixture(scope="module")
def pool_world(world: WebWorld) -> WebWorld:
    r = declare_profile(world, "stranger", "Wang Fang", "王芳")
    assert r.status_code == 200, r.text
    r = declare_profile(world, "seller", "Brightway Lighting", "明途照明")
    assert r.status_code == 200, r.text
    return world


def _address(world: WebWorld, who: str) -> str:
    return world.clients[who].address


def test_a_person_applies_and_sees_their_standing(pool_world: WebWorld) -> None:
    w = pool_world
    me = _address(w, "stranger")
    for lang, apply_words, criteria in (
            ("en", "Apply to be an assessor", "Account at least 90 days old"),
            ("zh-Hans", "申请成为评审员", "账户注册满 90 天")):
        page = _get(w, f"/ui/pool?lang={lang}", "stranger")
        assert apply_words in page and criteria in page
        assert 'data-action="pool.applied"' in page and f'data-assessor="{me}"' in page
        assert 'data-status="none"' in page and problems(page) == []
    # the nav leads here for every signed-in person
    assert 'href="/ui/pool?lang=en"' in _get(w, "/ui/cases?lang=en", "buyer")

    _refused(_step(w, "stranger", "pool.applied", {"assessor": me},
                   posted={"assessor": _address(w, "buyer")}), 422, "payload_mismatch")
    r = _step(w, "stranger", "pool.applied", {"assessor": me})
    assert r.status_code == 201 and r.json()["status"] == "applied", r.text
    _refused(_api(w, "stranger", "pool/prepare",
                  {"action": "pool.applied", "payload": {"assessor": me}}),
             409, "duplicate_action")
    seller = _address(w, "seller")
    r = _step(w, "stranger", "pool.relationship_declared",
              {"assessor": me, "party": seller, "nature": "former employer"})
    assert r.status_code == 201, r.text

    en = _get(w, "/ui/pool?lang=en", "stranger")
    assert "Applied; waiting for the institution&#x27;s decision." in en
    assert 'data-action="pool.applied"' not in en  # applied once
    assert ">Brightway Lighting</a>" in en and "former employer" in en  # a name, not 0x…
    assert "No seats yet" in en and "Seats drawn" in en and "Participation (%)" in en
    zh = _get(w, "/ui/pool?lang=zh-Hans", "stranger")
    assert "已申请，等待本机构审核。" in zh and ">明途照明</a>" in zh and "被抽中次数" in zh
    assert problems(zh) == []


def test_the_institution_admits_suspends_and_reinstates(pool_world: WebWorld) -> None:
    w = pool_world
    me = _address(w, "stranger")
    if "data-status=\"applied\"" not in _get(w, "/ui/pool?lang=en", "admin"):
        assert _step(w, "stranger", "pool.applied", {"assessor": me}).status_code == 201
    page = _get(w, "/ui/pool?lang=en", "admin")
    assert "Every assessor" in page and ">Wang Fang</a>" in page
    assert 'data-action="pool.admitted"' in page and 'data-action="pool.suspended"' in page
    assert 'data-action="pool.applied"' not in page  # the institution does not apply
    head = httpx.get(w.base + "/pool/head", headers={
        "Authorization": f"Bearer {w.token('admin')}"}, timeout=30).json()
    crit = head["criteria"]["hash"]
    assert f'title="{crit}"' in page  # the published criteria's hash, shown

    admission = {"assessor": me, "criteriaHash": crit, "accountAgeDays": 400,
                 "identityVerified": True, "standing": 75, "testScore": 90}
    # a non-admin cannot have an institution step prepared; nor an unknown one
    _refused(_api(w, "stranger", "pool/prepare",
                  {"action": "pool.admitted", "payload": admission}), 403, "access_denied")
    _refused(_api(w, "admin", "pool/prepare", {"action": "pool.elected", "payload": {}}),
             422, "unknown_action")
    # below the published criteria: refused before anyone signs
    _refused(_api(w, "admin", "pool/prepare",
                  {"action": "pool.admitted", "payload": {**admission, "testScore": 50}}),
             422, "invalid_command")
    _refused(_api(w, "admin", "pool/prepare", {"action": "pool.suspended", "payload": {
        "assessor": _address(w, "court"), "reasonHash": "0x" + "aa" * 32}}),
        422, "invalid_command")
    r = _step(w, "admin", "pool.admitted", admission)
    assert r.status_code == 201 and r.json()["status"] == "admitted", r.text

    zh = _get(w, "/ui/pool?lang=zh-Hans", "admin")
    assert "全部评审员" in zh and ">王芳</a>" in zh and "已获准" in zh
    assert 'data-action="pool.suspended"' in zh and 'data-action="pool.admitted"' not in zh
    assert problems(zh) == []
    assert _step(w, "admin", "pool.suspended",
                 {"assessor": me, "reasonHash": "0x" + "ab" * 32}).status_code == 201
    assert "Suspended by the institution." in _get(w, "/ui/pool?lang=en", "stranger")
    assert 'data-action="pool.reinstated"' in _get(w, "/ui/pool?lang=en", "admin")
    assert _step(w, "admin", "pool.reinstated", {"assessor": me}).status_code == 201
    mine = _get(w, "/ui/pool?lang=en", "stranger")
    assert "Admitted as an assessor." in mine and 'data-status="admitted"' in mine
    # the records the admin signed are countersigned: the pool recomputes from them alone
    records = httpx.get(w.base + "/pool/records", headers={
        "Authorization": f"Bearer {w.token('admin')}"}, timeout=30).json()
    service = w.app.state.ctx.service
    pool = pool_from_records([SignedRecord.from_json_obj(x["record"]) for x in records],
                             [x["payload"] for x in records], domain=service.domain,
                             institution=service.institution_address)
    member = pool.assessor(me)
    assert member is not None and member.status.value == "admitted"


def test_signed_out_the_page_asks_for_sign_in(world: WebWorld) -> None:
    r = httpx.get(world.base + "/ui/pool?lang=zh-Hans", timeout=30)
    assert r.status_code == 401 and "/ui/sign-in?lang=zh-Hans" in r.text


def test_the_page_script_checks_what_the_service_prepared() -> None:
    """pool.js's checks in Node: the prepared step must be the action, signer, domain and
    payload entered."""
    script = f"""
const pool = require({str(REPO / 'backend/web/static/pool.js')!r});
const domain = {{name: 'chainarb', version: '1', chainId: 5, verifyingContract: '0xAb'}};
const prep = {{action: 'pool.applied', recordType: 'ProceduralStep', payload: {{assessor: '0x1'}},
  typedData: {{domain, message: {{action: 'pool.applied', actor: '0xAA'}}}}}};
const out = [pool.mismatch(prep, 'pool.applied', {{assessor: '0x1'}}, '0xaa', domain),
  pool.mismatch(prep, 'pool.admitted', {{assessor: '0x1'}}, '0xaa', domain),
  pool.mismatch(prep, 'pool.applied', {{assessor: '0x2'}}, '0xaa', domain),
  pool.mismatch(prep, 'pool.applied', {{assessor: '0x1'}}, '0xbb', domain),
  pool.mismatch(prep, 'pool.applied', {{assessor: '0x1'}}, '0xaa', {{...domain, chainId: 6}})];
let code = '';
try {{ pool.wholeNumber('101', 100, 'standing'); }} catch (e) {{ code = e.code + ':' + e.field; }}
out.push(code, String(pool.wholeNumber(' 42 ', 100, 'x')));
console.log(JSON.stringify(out));
"""
    done = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=60,
                          check=True)
    assert done.stdout.strip() == ('["","action","payload","signer","domain",'
                                   '"pool_number:standing","42"]')


def test_the_shared_signer_checks_the_account_then_signs() -> None:
    """signer.js (the case page's and this page's wallet code) in Node: no wallet, another
    account and a refusal are the page's own error class with its codes; the viewer's
    account signs through the built-in wallet first, else eth_signTypedData_v4."""
    script = f"""
const {{chainarbSigner}} = require({str(REPO / 'backend/web/static/signer.js')!r});
function Err(code, detail) {{ this.code = code; this.detail = detail || ''; }}
const typed = {{domain: {{name: 'chainarb'}}, message: {{action: 'pool.applied'}}}};
const out = [];
async function attempt(f) {{
  try {{ out.push('ok:' + await f()); }}
  catch (e) {{ out.push((e instanceof Err ? 'Err:' : 'other:') + e.code + ':' + e.detail); }}
}}
(async () => {{
  const s = chainarbSigner('0xAA', Err);
  await attempt(s.account);
  globalThis.ethereum = {{request: async () => []}};
  await attempt(s.account);
  globalThis.ethereum = {{request: async () => ['0xbb']}};
  await attempt(s.account);
  const seen = [];
  globalThis.ethereum = {{request: async (r) => {{
    seen.push(r.method);
    if (r.method === 'eth_requestAccounts') {{ return ['0xaa']; }}
    if (JSON.parse(r.params[1]).message.action !== 'pool.applied' || r.params[0] !== '0xaa') {{
      throw new Error('bad params');
    }}
    return '0xsig';
  }}}};
  await attempt(() => s.signTyped(typed));
  globalThis.ethereum = {{request: async (r) => {{
    if (r.method === 'eth_requestAccounts') {{ return ['0xAa']; }}
    throw new Error('user rejected');
  }}}};
  await attempt(() => s.signTyped(typed));
  globalThis.chainarbWallet = {{kind: () => 'builtin', address: async () => '0xaA',
    signTypedData: async (t) => 'builtin:' + t.message.action}};
  await attempt(() => s.signTyped(typed));
  globalThis.chainarbWallet.kind = () => '';
  await attempt(s.account);
  out.push(seen.join(','));
  console.log(JSON.stringify(out));
}})();
"""
    done = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=60,
                          check=True)
    assert done.stdout.strip() == (
        '["Err:no_wallet:","Err:no_wallet:","Err:other_account:","ok:0xsig",'
        '"Err:wallet_refused:user rejected","ok:builtin:pool.applied","ok:0xAa",'
        '"eth_requestAccounts,eth_signTypedData_v4"]')

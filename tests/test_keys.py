"""Rotating the personal-data key: every sealed value and keyed hash moves, all or nothing."""

import base64

import pytest
from cryptography.exceptions import InvalidTag
from shapely.geometry import Point
from sqlalchemy import select

from emergency import create_app
from emergency.errors import Invalid
from registry.crypto import Cipher
from registry.models import Organisation, TeamMember
from tests.conftest import DATA_KEY, app_config
from tests.factories import credit_code, id_number

NEW_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()


def _arrange(db):
    """An organisation (contact phone) with a team of two members."""
    from emergency.auth import service as auth
    from registry import members, service, teams

    cipher = Cipher(DATA_KEY)
    admin = auth.create_user(db, "keyadmin", "admin", "correct horse battery")
    org = service.register_org(db, cipher, admin, "密钥测试队", credit_code(61), "李四",
                               "13812345601", Point(106.5, 29.5))
    db.flush()
    team = teams.create_team(db, admin, org.id, "一队", "mountain", Point(106.5, 29.5))
    db.flush()
    people = [(id_number(70 + n), f"1390000007{n}") for n in range(2)]
    for n, (ident, phone) in enumerate(people):
        members.add_member(db, cipher, admin, team.id, f"队员{n}", ident, phone)
    db.flush()
    return org.id, people


def _stored(db):
    """(organisation phones, members' (id number, phone, hash)) as stored."""
    orgs = db.scalars(select(Organisation.contact_phone_enc)).all()
    people = db.execute(select(TeamMember.id_number_enc, TeamMember.phone_enc,
                               TeamMember.person_hash).order_by(TeamMember.id)).all()
    return orgs, [tuple(p) for p in people]


def test_rotate_reseals_every_value_and_rehashes(app, db):
    from emergency.keys import rotate

    with app.app_context():
        _, people = _arrange(db)
        old, new = Cipher(DATA_KEY), Cipher(NEW_KEY)
        changed = rotate(db, old, new)
        db.flush()
        db.expire_all()
        assert changed["members"] == 2 and changed["organisations"] == 1
        orgs, stored = _stored(db)
        assert [new.decrypt(p) for p in orgs] == ["13812345601"]
        for (ident, phone), (ident_enc, phone_enc, person_hash) in zip(people, stored,
                                                                       strict=True):
            assert (new.decrypt(ident_enc), new.decrypt(phone_enc)) == (ident, phone)
            assert person_hash == new.lookup_hash(ident) != old.lookup_hash(ident)
            with pytest.raises(InvalidTag):
                old.decrypt(ident_enc)
        # A rerun finds everything under the new key already and changes nothing.
        assert set(rotate(db, old, new).values()) == {0}


def test_rotate_with_a_wrong_old_key_is_refused(app, db):
    from emergency.keys import rotate

    with app.app_context():
        _arrange(db)
        before = _stored(db)
        wrong = Cipher(base64.urlsafe_b64encode(b"w" * 32).decode())
        with pytest.raises(Invalid, match="opens with neither"):
            with db.begin_nested():
                rotate(db, wrong, Cipher(NEW_KEY))
        db.expire_all()
        assert _stored(db) == before


def test_keys_commands(database, db, tmp_path):
    """`keys generate` prints a usable key; `keys rotate` runs with the configured key as
    the new one, records the rotation in the audit log and refuses the same key twice."""
    from emergency.audit.models import AuditEntry

    app = create_app(app_config(database[0], tmp_path, TEST_DB_SESSION=db,
                                EMERGENCY_DATA_KEY=NEW_KEY))
    runner = app.test_cli_runner()
    generated = runner.invoke(args=["keys", "generate"])
    assert generated.exit_code == 0 and len(base64.urlsafe_b64decode(generated.output)) == 32
    with app.app_context():
        _, people = _arrange(db)
    result = runner.invoke(args=["keys", "rotate"], env={"EMERGENCY_OLD_DATA_KEY": DATA_KEY})
    assert result.exit_code == 0, result.output
    assert "2 members" in result.output
    db.expire_all()
    _, stored = _stored(db)
    assert Cipher(NEW_KEY).decrypt(stored[0][0]) == people[0][0]
    assert db.scalar(select(AuditEntry.changes).where(AuditEntry.action == "rotate_key"))
    same = runner.invoke(args=["keys", "rotate", "--old-key", NEW_KEY])
    assert same.exit_code != 0 and "old key is the configured key" in same.output

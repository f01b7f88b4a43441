"""Registry test factories: valid identifiers and request bodies."""

from datetime import date

from registry.validators import make_credit_code, make_id_number


def credit_code(n):
    """A valid unified social credit code, different for each n."""
    return make_credit_code("52", "500103", f"MJ{n:06d}")


def id_number(n, area="500103"):
    """A valid resident ID number, different for each n."""
    return make_id_number(area, date(1980 + n % 30, 1 + n % 12, 1 + n % 28), n % 1000)


def org_body(n=1, **extra):
    """A registration body."""
    return {"name": f"蓝天救援队{n}", "credit_code": credit_code(n), "contact_name": "张三",
            "contact_phone": "13812345678", "address": "渝中区解放碑",
            "location": {"type": "Point", "coordinates": [106.57, 29.55]}, **extra}


def team_body(**extra):
    """A team body."""
    return {"name": "山地搜救一队", "category": "mountain",
            "location": {"type": "Point", "coordinates": [106.55, 29.56]},
            "service_radius_km": 30, "equipment": [{"type": "rope", "quantity": 20}], **extra}


def member_body(n=1, **extra):
    """A member body."""
    return {"name": f"队员{n}", "id_number": id_number(n), "phone": f"139{n:08d}",
            "skills": ["rope rescue"], **extra}

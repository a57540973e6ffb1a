"""Photos, voice and location from WeChat: drafts that gather them, and the media-fetch job over real HTTP."""
import io
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.intake.media_jobs import run_media_fetches
from dispatch.intake.models import MediaFetch
from dispatch.tickets.models import Channel, Ticket, TicketPhoto
from dispatch.storage import storage
from dispatch.wechat.models import InboundMessage


def jpeg_with_gps(size=(600, 300)):
    """A JPEG with EXIF GPS data and orientation 6, as phones send."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (36.0, 4.0, 0.0), 3: "E", 4: (120.0, 22.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def image(wechat, media_id, openid="o_resident_1"):
    return wechat.open_reply(wechat.post(wechat.message("image", openid=openid, MediaId=media_id,
                                                        PicUrl="http://mmbiz/x")))


def tickets():
    return db.session.scalars(select(Ticket).order_by(Ticket.id)).all()


def test_photo_then_text_make_one_ticket_and_the_photo_is_cleaned(wechat, wechat_api, clock, app):
    media_id = wechat_api.add_media(jpeg_with_gps())
    reply = image(wechat, media_id)
    ticket = tickets()[0]
    assert ticket.channel is Channel.WECHAT_PHOTO and ticket.description_pending and ticket.category is None
    assert ticket.number in reply["Content"] and "再发一段文字" in reply["Content"]
    assert db.session.scalars(select(TicketPhoto)).all() == []  # nothing fetched inside the callback
    clock.advance(minutes=3)
    _, reply = wechat.say("这是闽江路12号3号楼门口的井盖，碎了很危险")
    assert ticket.number in reply["Content"] and len(tickets()) == 1
    db.session.refresh(ticket)
    assert not ticket.description_pending and "井盖" in ticket.description and ticket.category is not None
    assert ticket.address == "闽江路12号3号楼"
    assert run_media_fetches(clock()) == 1
    photo = db.session.scalars(select(TicketPhoto)).one()
    stored = storage(app).path(photo.storage_key).read_bytes()
    cleaned = Image.open(io.BytesIO(stored))
    assert cleaned.size == (300, 600) and not cleaned.getexif() and b"Exif" not in stored
    assert storage(app).path(photo.thumbnail_key) is not None
    assert "photo_added" in [e.kind for e in ticket.events]


def test_a_note_after_the_window_opens_its_own_ticket(wechat, wechat_api, clock):
    image(wechat, wechat_api.add_media(jpeg_with_gps()))
    clock.advance(minutes=11)
    _, reply = wechat.say("闽江路12号3号楼门口井盖碎了")
    photo, note = tickets()
    assert photo.description_pending and not note.description_pending and note.number in reply["Content"]
    assert note.resident_id == photo.resident_id and note.address == "闽江路12号3号楼"
    statuses = db.session.execute(select(InboundMessage.msg_type, InboundMessage.status, InboundMessage.ticket_id)
                                  .order_by(InboundMessage.id)).all()
    assert statuses == [("image", "processed", photo.id), ("text", "opened", note.id)]


def test_text_then_photos_join_the_same_ticket_within_the_window(wechat, wechat_api, clock):
    wechat.say("东海西路15号2栋1单元301暖气不热")
    for _ in range(2):
        clock.advance(minutes=4)
        reply = image(wechat, wechat_api.add_media(jpeg_with_gps()))
        assert "照片已补充到工单" in reply["Content"]
    assert len(tickets()) == 1
    assert run_media_fetches(clock()) == 2 and len(tickets()[0].photos) == 2
    clock.advance(minutes=11)
    image(wechat, wechat_api.add_media(jpeg_with_gps()))
    assert len(tickets()) == 2 and tickets()[1].channel is Channel.WECHAT_PHOTO


def test_two_notes_are_two_tickets_and_other_residents_never_join(wechat, wechat_api):
    wechat.say("宁夏路100号楼道灯坏了")
    wechat.say("宁夏路100号垃圾桶满了")
    image(wechat, wechat_api.add_media(jpeg_with_gps()), openid="o_neighbour")
    assert [t.resident.openid for t in tickets()] == ["o_resident_1", "o_resident_1", "o_neighbour"]


def test_a_file_that_is_not_an_image_is_refused_with_a_note_and_the_ticket_survives(wechat, wechat_api, clock):
    image(wechat, wechat_api.add_media(b"MZ\x90\x00 not really a photo", content_type="image/jpeg"))
    assert run_media_fetches(clock()) == 1
    ticket = tickets()[0]
    job = db.session.scalars(select(MediaFetch)).one()
    assert job.status == "failed" and ticket.photos == []
    assert any(e.kind == "media_refused" and "照片未能保存" in e.note for e in ticket.events)


def test_a_decompression_bomb_is_refused(wechat, wechat_api, clock):
    bomb = io.BytesIO()
    Image.new("1", (20000, 20000)).save(bomb, "PNG")
    image(wechat, wechat_api.add_media(bomb.getvalue(), content_type="image/png"))
    run_media_fetches(clock())
    assert db.session.scalars(select(MediaFetch)).one().status == "failed"
    assert tickets()[0].photos == []


def test_an_expired_media_id_is_noted_and_a_network_failure_retried(wechat, wechat_api, clock, app, stub_server):
    image(wechat, "no-such-media")
    run_media_fetches(clock())
    job = db.session.scalars(select(MediaFetch)).one()
    assert job.status == "failed" and "40007" in job.error
    image(wechat, wechat_api.add_media(jpeg_with_gps()), openid="o_other")
    app.config["WECHAT_API_BASE_URL"] = "http://127.0.0.1:9"  # nothing listens there
    try:
        assert run_media_fetches(clock()) == 0
    finally:
        app.config["WECHAT_API_BASE_URL"] = stub_server
    pending = db.session.scalars(select(MediaFetch).where(MediaFetch.status == "pending")).one()
    assert pending.attempts == 1 and pending.next_attempt_at > clock()
    assert run_media_fetches(clock()) == 0  # not due yet
    assert run_media_fetches(clock() + timedelta(minutes=3)) == 1
    assert pending.status == "done"


def test_the_access_token_is_fetched_once_and_shared(wechat, wechat_api, clock):
    for openid in ("o_a", "o_b", "o_c"):
        image(wechat, wechat_api.add_media(jpeg_with_gps()), openid=openid)
    run_media_fetches(clock())
    assert wechat_api.token_fetches == 1


def test_voice_uses_recognition_or_is_kept_for_listening(wechat, wechat_api, clock, app):
    reply = wechat.open_reply(wechat.post(wechat.message(
        "voice", MediaId="v1", Format="amr", Recognition="湛山二路5号2单元水管漏水了")))
    first = tickets()[0]
    assert first.channel is Channel.WECHAT_VOICE and "水管漏水" in first.description and first.number in reply["Content"]
    assert db.session.scalars(select(MediaFetch)).all() == []
    audio = wechat_api.add_media(b"#!AMR\n" + b"\x00" * 200, content_type="audio/amr")
    reply = wechat.open_reply(wechat.post(wechat.message("voice", openid="o_old", MediaId=audio, Format="amr")))
    second = tickets()[1]
    assert second.needs_listening and second.description_pending and "收听" in reply["Content"]
    run_media_fetches(clock())
    db.session.refresh(second)
    assert second.voice_key and storage(app).path(second.voice_key).read_bytes().startswith(b"#!AMR")


def test_a_location_sets_the_drafts_coordinates_or_waits_for_the_next_ticket(wechat, clock):
    wechat.say("燕儿岛路8号路灯不亮", openid="o_a")
    wechat.open_reply(wechat.post(wechat.message("location", openid="o_a", Location_X="36.0621",
                                                 Location_Y="120.3990", Scale="16", Label="燕儿岛路8号")))
    located = tickets()[0]
    db.session.refresh(located)
    assert (located.latitude, located.longitude, located.location_label) == (36.0621, 120.399, "燕儿岛路8号")
    reply = wechat.open_reply(wechat.post(wechat.message("location", openid="o_b", Location_X="36.05",
                                                         Location_Y="120.38", Label="南京路")))
    assert "已记录您的位置" in reply["Content"] and len(tickets()) == 1
    clock.advance(minutes=2)
    wechat.say("这里的井盖丢了", openid="o_b")
    assert (tickets()[1].latitude, tickets()[1].location_label) == (36.05, "南京路")
    bad = wechat.open_reply(wechat.post(wechat.message("location", openid="o_b", Location_X="north")))
    assert "没能读出" in bad["Content"]

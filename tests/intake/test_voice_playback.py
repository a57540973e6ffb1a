"""A resident's WeChat voice that staff can use: played in the page (AMR → MP3 by ffmpeg), and transcribed.

The voices are real AMR-NB files (dispatch.audio.sample_amr), sent through the real callback, fetched from the
WeChat stub by the media job, and played, downloaded and transcribed through the console and the desk.
"""
import logging
import os
import shutil
import subprocess

import pytest
from sqlalchemy import select

from dispatch import audio
from dispatch.extensions import db
from dispatch.intake.media_jobs import run_media_fetches
from dispatch.org.principal import Principal
from dispatch.storage import storage
from dispatch.tickets import pipeline
from dispatch.tickets.models import Ticket, TicketEvent
from tests.conftest import csrf_from, login

FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(
    FFMPEG is None and os.environ.get("REQUIRE_BROWSER") != "1",
    reason="ffmpeg is not installed (apt-get install ffmpeg; CI installs it)")


@pytest.fixture
def voice_log(monkeypatch, caplog):
    """dispatch.audio's warnings (alembic's logging setup during the migrations disables loggers made before it)."""
    monkeypatch.setattr(logging.getLogger("dispatch.audio"), "disabled", False)
    caplog.set_level(logging.WARNING, logger="dispatch.audio")
    return caplog


def send_voice(wechat, wechat_api, data, fmt="amr", openid="o_voice", content_type="audio/amr"):
    """A resident's voice WeChat could not recognise; returns the ticket it opened (or joined)."""
    media_id = wechat_api.add_media(data, content_type=content_type)
    wechat.post(wechat.message("voice", openid=openid, MediaId=media_id, Format=fmt))
    return db.session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()


def fetched(ticket, clock):
    """Run the media job and read the ticket again."""
    run_media_fetches(clock())
    db.session.refresh(ticket)
    return ticket


def text(response):
    return response.get_data(as_text=True)


def audio_src(page):
    """The src of the page's <audio> player, or None."""
    start = page.find("<audio")
    if start < 0:
        return None
    tag = page[start:page.index(">", start)]
    return tag.split('src="', 1)[1].split('"', 1)[0]


def probe(data, tmp_path):
    """What ffprobe says the bytes are: (codec, seconds)."""
    path = tmp_path / "probe.bin"
    path.write_bytes(data)
    out = subprocess.run([shutil.which("ffprobe"), "-v", "error", "-show_entries", "stream=codec_name:format=duration",
                          "-of", "default=noprint_wrappers=1:nokey=1", str(path)], capture_output=True, text=True,
                         check=True).stdout.split()
    return out[0], float(out[1])


@needs_ffmpeg
def test_the_media_job_keeps_the_amr_and_an_mp3_that_the_ticket_page_plays(wechat, wechat_api, clock, app, client,
                                                                         tmp_path):
    ticket = fetched(send_voice(wechat, wechat_api, audio.sample_amr(2.0)), clock)
    assert ticket.voice_key.endswith(".amr") and ticket.needs_listening
    mp3 = storage(app).path(audio.playable_key(ticket.voice_key))
    assert mp3 is not None and storage(app).path(ticket.voice_key).read_bytes().startswith(b"#!AMR\n")
    codec, seconds = probe(mp3.read_bytes(), tmp_path)
    assert codec == "mp3" and 1.8 < seconds < 2.4

    login(client, "staff")
    page = text(client.get(f"/tickets/{ticket.number}"))
    assert page.index('data-section="voice"') < page.index("诉求内容</h2>")  # the player leads the page
    src = audio_src(page)
    assert src == f"/media/{audio.playable_key(ticket.voice_key)}"
    played = client.get(src)
    assert played.status_code == 200 and played.mimetype == "audio/mpeg" and played.data == mp3.read_bytes()
    ranged = client.get(src, headers={"Range": "bytes=0-99"})  # browsers seek with ranges
    assert ranged.status_code == 206 and len(ranged.data) == 100
    original = client.get(f"/media/{ticket.voice_key}")
    assert original.status_code == 200 and original.mimetype == "audio/amr"
    assert f'href="/media/{ticket.voice_key}" download' in page
    assert "听写语音内容" in page and 'data-form="transcribe"' in page
    assert 'data-form="describe"' not in page  # one form for the words, not two


@needs_ffmpeg
def test_the_transcript_becomes_the_description_is_classified_and_the_voice_is_heard(wechat, wechat_api, clock,
                                                                                     client):
    ticket = fetched(send_voice(wechat, wechat_api, audio.sample_amr(1.0)), clock)
    assert ticket.category is None and ticket.description_pending
    login(client, "staff")
    url = f"/tickets/{ticket.number}"
    said = "古田路16号5号楼1单元4楼楼道灯不亮，晚上看不见台阶"
    response = client.post(f"{url}/describe", data={"csrf_token": csrf_from(client, url), "version": ticket.version,
                                                    "description": said, "address": "古田路16号5号楼1单元"})
    assert response.status_code == 302
    db.session.refresh(ticket)
    assert ticket.description == said and not ticket.needs_listening and not ticket.description_pending
    assert ticket.category is not None and ticket.category.code == "lighting"
    assert ticket.address == "古田路16号5号楼1单元"
    event = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                               .order_by(TicketEvent.id.desc())).first()
    assert event.kind == "described" and event.data["suggested_category"] == "lighting"
    page = text(client.get(url))
    assert said in page and audio_src(page) and 'data-form="transcribe"' not in page  # still playable, no form


@needs_ffmpeg
def test_an_empty_transcript_is_refused_kindly_and_keeps_the_address(wechat, wechat_api, clock, client):
    ticket = fetched(send_voice(wechat, wechat_api, audio.sample_amr(1.0)), clock)
    login(client, "staff")
    url = f"/tickets/{ticket.number}"
    response = client.post(f"{url}/describe", data={"csrf_token": csrf_from(client, url), "version": ticket.version,
                                                    "description": "  ", "address": "湛山二路5号"})
    page = text(response)
    assert response.status_code == 422 and "请填写诉求内容" in page and 'value="湛山二路5号"' in page
    assert 'data-form="transcribe"' in page and audio_src(page)
    db.session.refresh(ticket)
    assert ticket.needs_listening


def test_without_ffmpeg_the_page_says_so_logs_it_and_offers_the_original(wechat, wechat_api, clock, app, client,
                                                                        monkeypatch, voice_log):
    monkeypatch.setitem(app.config, "FFMPEG", "ffmpeg-not-installed-here")
    ticket = fetched(send_voice(wechat, wechat_api, audio.sample_amr(1.0)), clock)
    assert ticket.voice_key and storage(app).path(audio.playable_key(ticket.voice_key)) is None
    assert "ffmpeg is not installed" in voice_log.text  # the job's log line
    voice_log.clear()

    login(client, "staff")
    response = client.get(f"/tickets/{ticket.number}")
    page = text(response)
    assert response.status_code == 200 and audio_src(page) is None
    assert "语音无法在网页播放：服务器未安装 ffmpeg，可下载原始文件" in page
    assert f'href="/media/{ticket.voice_key}" download' in page and "听写语音内容" in page
    assert "ffmpeg is not installed" in voice_log.text and ticket.voice_key in voice_log.text
    assert client.get(f"/media/{audio.playable_key(ticket.voice_key)}").status_code == 404
    assert client.get(f"/media/{ticket.voice_key}").status_code == 200


@needs_ffmpeg
def test_a_voice_saved_before_ffmpeg_was_installed_is_converted_on_first_view(wechat, wechat_api, clock, app, client,
                                                                              monkeypatch):
    monkeypatch.setitem(app.config, "FFMPEG", "ffmpeg-not-installed-here")
    ticket = fetched(send_voice(wechat, wechat_api, audio.sample_amr(1.0)), clock)
    monkeypatch.setitem(app.config, "FFMPEG", FFMPEG)  # installed since
    login(client, "staff")
    page = text(client.get(f"/tickets/{ticket.number}"))
    assert audio_src(page) == f"/media/{audio.playable_key(ticket.voice_key)}"
    assert client.get(audio_src(page)).mimetype == "audio/mpeg"


@needs_ffmpeg
def test_speex_converts_an_mp3_plays_as_sent_and_a_broken_file_gets_a_note(wechat, wechat_api, clock, client,
                                                                            tmp_path, voice_log):
    speex = tmp_path / "voice.speex"
    subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-ar", "16000",
                    "-ac", "1", "-c:a", "libspeex", "-f", "ogg", str(speex)], check=True)
    spoken = fetched(send_voice(wechat, wechat_api, speex.read_bytes(), fmt="speex", openid="o_a",
                                content_type="audio/speex"), clock)
    mp3 = tmp_path / "voice.mp3"
    subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=1", str(mp3)], check=True)
    as_sent = fetched(send_voice(wechat, wechat_api, mp3.read_bytes(), fmt="mp3", openid="o_b",
                                 content_type="audio/mpeg"), clock)
    broken = fetched(send_voice(wechat, wechat_api, b"#!AMR\n" + b"\xff" * 300, openid="o_c"), clock)
    assert spoken.voice_key.endswith(".speex") and as_sent.voice_key.endswith(".mp3")

    login(client, "admin")
    assert audio_src(text(client.get(f"/tickets/{spoken.number}"))) == f"/media/{audio.playable_key(spoken.voice_key)}"
    assert audio_src(text(client.get(f"/tickets/{as_sent.number}"))) == f"/media/{as_sent.voice_key}"
    response = client.get(f"/tickets/{broken.number}")
    assert response.status_code == 200 and audio_src(text(response)) is None
    assert "这段录音的格式无法转换，可下载原始文件" in text(response) and "could not convert" in voice_log.text


@needs_ffmpeg
def test_the_mp3_is_served_only_to_those_who_may_see_the_ticket(wechat, wechat_api, clock, client):
    ticket = fetched(send_voice(wechat, wechat_api, audio.sample_amr(1.0)), clock)
    login(client, "staff3")  # 香港花园社区: not theirs
    assert client.get(f"/media/{audio.playable_key(ticket.voice_key)}").status_code == 404
    assert client.get(f"/media/{ticket.voice_key}").status_code == 404


@needs_ffmpeg
def test_the_volunteer_hears_the_voice_on_the_task_page(wechat, wechat_api, clock, org, client, monkeypatch, app):
    ticket = fetched(send_voice(wechat, wechat_api, audio.sample_amr(1.0)), clock)
    director = Principal.from_user(org.director)
    pipeline.act(director, ticket, "accept")
    pipeline.act(director, ticket, "dispatch", assignee="volunteer")
    db.session.commit()
    login(client, "volunteer")
    page = text(client.get(f"/desk/tasks/{ticket.number}"))
    assert audio_src(page) == f"/media/{audio.playable_key(ticket.voice_key)}" and "居民语音留言" in page
    assert "社区还没有听写这段语音" in page
    assert client.get(audio_src(page)).mimetype == "audio/mpeg"
    monkeypatch.setitem(app.config, "FFMPEG", "ffmpeg-not-installed-here")
    storage(app).path(audio.playable_key(ticket.voice_key)).unlink()
    response = client.get(f"/desk/tasks/{ticket.number}")
    assert response.status_code == 200 and "服务器未安装 ffmpeg" in text(response) and audio_src(text(response)) is None


@needs_ffmpeg
def test_the_demo_simulators_unrecognised_voice_plays_on_the_ticket_page(app, client, account, wechat_api, clock,
                                                                         monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_STUB", True)
    token = csrf_from(client, "/dev/wechat?account=yanchenglu")
    client.post("/dev/wechat", data={"csrf_token": token, "account": "yanchenglu", "openid": "o_sim",
                                     "kind": "voice_raw"})
    ticket = fetched(db.session.scalars(select(Ticket)).one(), clock)
    login(client, "staff")
    page = text(client.get(f"/tickets/{ticket.number}"))
    assert audio_src(page) == f"/media/{audio.playable_key(ticket.voice_key)}" and "听写语音内容" in page

"""User story: Space marks the image verified; the file says so and the list shows it."""

from implant_desk.core.annotations.voc import read_voc


def test_verify_saves_and_shows_verified(window, image_folder):
    window.open_folder(image_folder)
    window.actions["verify"].trigger()
    assert window.session.document.verified and "verified" in window.saved_label.text()
    window.actions["next_image"].trigger()  # auto-save on image change
    assert read_voc(image_folder / "img1.xml").verified
    assert window.navigator.items[0].status == "verified"
    window.actions["previous_image"].trigger()
    window.actions["verify"].trigger()
    window.actions["undo"].trigger()
    assert window.session.document.verified

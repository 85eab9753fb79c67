"""User story: deleting an image asks first and moves it to the trash; it is never unlinked."""

import send2trash


def test_delete_image_asks_and_uses_the_trash(window, image_folder, answers, monkeypatch):
    trashed = []
    monkeypatch.setattr(send2trash, "send2trash", lambda path: trashed.append(path))
    window.open_folder(image_folder)
    answers.confirmations = [False]
    window.actions["delete_image"].trigger()
    assert trashed == [] and len(window.navigator.items) == 4
    answers.confirmations = [True]
    window.actions["delete_image"].trigger()
    assert trashed == [str(image_folder / "img1.png")]
    assert [i.path.name for i in window.navigator.items][0] == "img2.tif"
    assert window.session.image_path.name == "img2.tif"

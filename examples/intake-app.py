#!/usr/bin/python3
"""受付システム — a stand-in for an old municipal business system, for kuroko to automate.

A real X11 window (Qt, whose text fields take any Japanese text) with the fields an intake
screen has, a 新規 (new) and a 登録 (register) button, a 照会 (look up) box, a short delay on
save like a slow server, and every registration appended to a file this program owns (one JSON
object per line, written and synced before "登録しました" is shown). Like many real systems it
does not refuse a number registered before: entering an application twice is the robot's
mistake to avoid, and the file is the judge.

Usage: intake-app.py REGISTRATIONS.jsonl [--save-delay SECONDS]
"""
import json
import os
import re
import sys
import time

from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtGui import QFont
from PyQt5.QtWidgets import (QApplication, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                             QPushButton, QVBoxLayout, QWidget)

HALF_KANA = re.compile(r"^[\uff66-\uff9f ]+$")
WAREKI = re.compile(r"^[MTSHR]\d{2}/\d{2}/\d{2}$")


class IntakeWindow(QWidget):
    def __init__(self, path, delay):
        super().__init__()
        self.path = path
        self.delay = delay
        self.setWindowTitle("受付システム — 住民票交付申請")
        # The font is pinned, as a business system on one PC has it: the scenario's button
        # pictures were cut in Droid Sans Fallback, and fontconfig would otherwise pick whatever
        # Japanese font the desktop has (Noto Sans CJK on Debian and Ubuntu desktops).
        self.setStyleSheet(
            "QWidget { font-size: 15px; font-family: 'Droid Sans Fallback'; }")

        self.lookup = QLineEdit()
        self.lookup.setPlaceholderText("受付番号")
        look = self.button("照会", "#6a4c93", self.do_lookup)
        top = QHBoxLayout()
        top.addWidget(QLabel("照会"))
        top.addWidget(self.lookup)
        top.addWidget(look)

        self.fields = {}
        form = QFormLayout()
        for name, hint in [("受付番号", ""), ("氏名", ""), ("フリガナ", "半角カナ"),
                           ("生年月日", "例 S50/01/01"), ("住所", "")]:
            edit = QLineEdit()
            edit.setPlaceholderText(hint)
            edit.setMinimumWidth(420)
            self.fields[name] = edit
            form.addRow(name, edit)

        self.new = self.button("新規", "#1d70b8", self.do_new)
        self.save = self.button("登録", "#00703c", self.do_save)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.new)
        buttons.addWidget(self.save)

        self.status = QLabel("「新規」で入力を始めます")
        self.status.setMinimumHeight(28)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.set_editing(False)
        self.resize(640, 330)

    def button(self, text, color, action):
        b = QPushButton(text)
        b.setFocusPolicy(Qt.NoFocus)  # clicking keeps the focus in the fields
        b.setFixedSize(96, 34)
        b.setStyleSheet(
            f"QPushButton {{ background: {color}; color: white; font-weight: bold; border: 0; }}"
            "QPushButton:disabled { background: #b0b0b0; color: #eeeeee; }")
        b.clicked.connect(action)
        return b

    def set_editing(self, on):
        for edit in self.fields.values():
            edit.setEnabled(on)
        self.save.setEnabled(on)

    def say(self, text, color):
        self.status.setStyleSheet(f"color: {color}; font-weight: bold;")
        self.status.setText(text)

    def do_new(self):
        for edit in self.fields.values():
            edit.clear()
        self.set_editing(True)
        self.fields["受付番号"].setFocus()
        self.say("新規入力中", "#1d70b8")

    def do_save(self):
        values = {k: e.text() for k, e in self.fields.items()}
        problem = None
        if not values["受付番号"].strip() or not values["氏名"].strip() or not values["住所"].strip():
            problem = "受付番号・氏名・住所は必須です"
        elif not HALF_KANA.match(values["フリガナ"]):
            problem = "フリガナは半角カナで入力してください"
        elif not WAREKI.match(values["生年月日"]):
            problem = "生年月日は和暦（例 S50/01/01）で入力してください"
        if problem:
            self.say("エラー: " + problem, "#d4351c")
            return
        self.set_editing(False)
        self.new.setEnabled(False)
        self.say("登録中…", "#505a5f")
        QTimer.singleShot(int(self.delay * 1000), lambda: self.finish_save(values))

    def finish_save(self, values):
        values["registered_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(values, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.new.setEnabled(True)
        self.say("登録しました", "#00703c")

    def registered(self, number):
        if not os.path.exists(self.path):
            return False
        with open(self.path, encoding="utf-8") as f:
            return any(json.loads(line)["受付番号"] == number for line in f if line.strip())

    def do_lookup(self):
        number = self.lookup.text().strip()
        if self.registered(number):
            self.say("照会結果：登録済み", "#00703c")
        else:
            self.say("照会結果：未登録", "#d4351c")


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit(__doc__)
    delay = 0.4
    if "--save-delay" in args:
        delay = float(args[args.index("--save-delay") + 1])
    app = QApplication(sys.argv[:1])
    # Every widget, also those with a style sheet of their own (the status line), in the pinned font.
    app.setFont(QFont("Droid Sans Fallback"))
    window = IntakeWindow(args[0], delay)
    window.show()
    print("ready", flush=True)
    sys.exit(app.exec_())


if __name__ == "__main__":
    main()

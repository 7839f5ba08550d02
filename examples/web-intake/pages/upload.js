// 一括取込: sends the chosen file's bytes as they are; the server keeps the file and counts its
// lines.

const importButton = document.getElementById('import');

function showMessage(text, kind) {
  const box = document.getElementById('message');
  box.textContent = text;
  box.className = kind;
  box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
}

async function upload() {
  const file = document.getElementById('file').files[0];
  if (!file) {
    showMessage('取込ファイルを選択してください', 'error');
    return;
  }
  importButton.disabled = true;
  let answer;
  try {
    const body = await file.arrayBuffer();
    const response = await fetch('/api/upload?name=' + encodeURIComponent(file.name), {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body,
    });
    if (response.status === 413) {
      answer = { ok: false, error: 'ファイルが大きすぎます（10 MB まで）' };
    } else {
      answer = await response.json();
    }
  } catch (error) {
    answer = { ok: false, error: 'サーバーとの通信に失敗しました' };
  } finally {
    importButton.disabled = false;
  }

  if (answer.ok) {
    showMessage('取込しました：' + answer.name + '（' + answer.lines + ' 行）', 'info');
  } else {
    showMessage(answer.error, 'error');
  }
}

importButton.addEventListener('click', upload);

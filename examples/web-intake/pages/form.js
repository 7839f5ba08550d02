// 交付申請入力: checks the required fields, asks before saving, shows 保存中… while the server
// saves, then 登録しました. The 登録 button stays disabled until 新規 opens an empty form.

const REQUIRED = [
  ['no', '受付番号'],
  ['name', '氏名'],
  ['kana', 'フリガナ'],
  ['born', '生年月日'],
  ['address', '住所'],
  ['banchi', '番地'],
  ['purpose', '使用目的'],
];

const form = document.getElementById('entry');
const registerButton = document.getElementById('register');

function field(name) {
  return form.elements[name];
}

function showMessage(text, kind) {
  const box = document.getElementById('message');
  box.textContent = text;
  box.className = kind;
  box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
}

function clearMessage() {
  const box = document.getElementById('message');
  box.textContent = '';
  box.className = '';
  box.removeAttribute('role');
}

// A layer over the whole page while the server saves: clicks on the form are blocked.
function showOverlay() {
  const overlay = document.createElement('div');
  overlay.id = 'overlay';
  overlay.innerHTML = '<div class="box"><div class="spinner"></div><span>保存中…</span></div>';
  document.body.appendChild(overlay);
  return overlay;
}

async function register() {
  for (const [name, label] of REQUIRED) {
    if (field(name).value.trim() === '') {
      showMessage('必須項目が入力されていません：' + label, 'error');
      return;
    }
  }
  if (!confirm('この内容で登録しますか？')) return;

  const application = {
    no: field('no').value,
    name: field('name').value,
    kana: field('kana').value,
    born: field('born').value,
    zip: field('zip').value,
    address: field('address').value,
    banchi: field('banchi').value,
    copies: field('copies').value,
    purpose: field('purpose').value,
    honseki: field('honseki').checked,
  };

  clearMessage();
  const overlay = showOverlay();
  let answer;
  try {
    const response = await fetch('/api/register', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(application),
    });
    answer = await response.json();
  } catch (error) {
    answer = { ok: false, error: 'サーバーとの通信に失敗しました' };
  } finally {
    overlay.remove();
  }

  if (answer.ok) {
    showMessage('登録しました（受付番号：' + answer.no + '）', 'info');
    registerButton.disabled = true;
  } else {
    showMessage(answer.error, 'error');
  }
}

form.addEventListener('submit', (event) => event.preventDefault());

registerButton.addEventListener('click', register);

document.getElementById('clear').addEventListener('click', () => {
  form.reset();
  clearMessage();
});

document.getElementById('new').addEventListener('click', () => {
  window.location.href = '/form';
});

document.getElementById('addr-search').addEventListener('click', () => {
  window.open('/address', 'address', 'width=520,height=480');
});

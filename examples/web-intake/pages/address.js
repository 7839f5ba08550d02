// 住所検索 (a popup opened by 交付申請入力): 検索 keeps the rows whose 住所 contains the text
// typed; 選択 writes 郵便番号 and 住所 into the form of the window that opened this one.

const tbody = document.querySelector('#towns tbody');
const allRows = Array.from(tbody.rows);
const input = document.getElementById('town');

function showMessage(text, kind) {
  const box = document.getElementById('message');
  box.textContent = text;
  box.className = kind;
  box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
}

// Rows that do not match are taken out of the page, not just hidden.
function search() {
  const text = input.value.trim();
  const matches = allRows.filter((row) => row.dataset.address.includes(text));
  tbody.replaceChildren(...matches);
  if (matches.length === 0) {
    showMessage('該当する住所はありません', 'error');
  } else {
    document.getElementById('message').textContent = '';
    document.getElementById('message').className = '';
    document.getElementById('message').removeAttribute('role');
  }
}

function choose(row) {
  // The opener is the content frame's window (交付申請入力), not the top window.
  const opener = window.opener;
  const zip = opener && !opener.closed && opener.document.querySelector('input[name="zip"]');
  const address = opener && !opener.closed && opener.document.querySelector('input[name="address"]');
  if (!zip || !address) {
    showMessage('交付申請入力の画面が見つかりません', 'error');
    return;
  }
  zip.value = row.dataset.zip;
  address.value = row.dataset.address;
  for (const element of [zip, address]) {
    element.dispatchEvent(new Event('input', { bubbles: true }));
    element.dispatchEvent(new Event('change', { bubbles: true }));
  }
  window.close();
}

document.getElementById('town-search').addEventListener('click', search);
input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter') search();
});
tbody.addEventListener('click', (event) => {
  const button = event.target.closest('button');
  if (button) choose(button.closest('tr'));
});

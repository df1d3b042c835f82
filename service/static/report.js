// Live status: poll the report fragment every two seconds until grading is done.
(function () {
  const box = document.getElementById('report');
  if (!box) return;
  async function poll() {
    const response = await fetch(box.dataset.statusUrl, {headers: {'Accept': 'text/html'}});
    if (response.ok) {
      box.innerHTML = await response.text();
      const state = box.querySelector('[data-state]');
      if (state && state.dataset.state === 'done') return;
    }
    setTimeout(poll, 2000);
  }
  if (box.dataset.state !== 'done') setTimeout(poll, 1000);
})();

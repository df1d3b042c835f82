// Forms with data-confirm="question" ask before they are sent (instead of inline onsubmit handlers,
// which the pages' Content-Security-Policy does not run).
document.querySelectorAll('form[data-confirm]').forEach(function (form) {
  form.addEventListener('submit', function (event) {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});

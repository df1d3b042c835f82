// The login link is /login#token=...: the fragment never reaches the server or its logs.
// This script (a file, not inline: the pages' Content-Security-Policy allows no inline script)
// copies the token into the form and submits it.
(function () {
  const match = location.hash.match(/token=([^&]+)/);
  if (match) {
    document.getElementById('token').value = decodeURIComponent(match[1]);
    history.replaceState(null, '', '/login');
    document.getElementById('login-form').submit();
  }
})();

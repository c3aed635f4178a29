// Shows that scripts run: rewrites the status line, shows the client-side route the page
// was served for (the site routes /app/* to this index.html), and counts clicks.
(function () {
  const status = document.getElementById('status');
  status.textContent = 'JavaScript ran';
  status.classList.add('ran');

  const route = document.getElementById('route');
  if (location.pathname.startsWith('/app/')) {
    route.textContent = 'route: ' + location.pathname;
  }

  let clicks = 0;
  const button = document.getElementById('counter');
  button.addEventListener('click', function () {
    clicks++;
    button.textContent = 'clicked ' + clicks + (clicks === 1 ? ' time' : ' times');
  });
})();

/* Runs before the list is painted: while HOTP counters used offline wait to be reported to the
   server (static/js/connection.js), the list must not show a HOTP code that may already be used. */
try {
  if (localStorage.getItem("authvault-hotp-pending") === "1") document.documentElement.classList.add("hotp-pending");
} catch (e) { /* storage blocked: nothing was recorded either */ }

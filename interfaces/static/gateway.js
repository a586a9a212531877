// The page's gateway context: switching it, remembered for the next visit in a cookie the page
// route reads (interfaces/auth/context.py, authorize_page).

export function switchGateway(id) {
  document.cookie = `scheduler_gateway=${encodeURIComponent(id)}; path=/; max-age=31536000; samesite=lax`;
  location.assign(`/scheduler-automation?gateway_id=${encodeURIComponent(id)}${location.hash}`);
}

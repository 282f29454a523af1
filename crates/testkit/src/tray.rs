//! A StatusNotifierWatcher for tests: it owns `org.kde.StatusNotifierWatcher` on a test
//! session bus, so that an app's tray icon registers there as on a KDE or GNOME desktop with
//! the AppIndicator extension, and lets a test read the icon and press its menu entries over
//! the same D-Bus protocols a panel uses.
//!
//! - The watcher (freedesktop.org's StatusNotifierItem specification, the `org.kde` names it
//!   is deployed under): `RegisterStatusNotifierItem` / `RegisterStatusNotifierHost`, the
//!   properties `RegisteredStatusNotifierItems`, `IsStatusNotifierHostRegistered` (always
//!   true: the test is the host, and libayatana-appindicator falls back to an XEmbed icon
//!   nobody can read when no host is registered) and `ProtocolVersion`, and the four signals.
//!   An item whose connection leaves the bus is unregistered.
//! - The item (`org.kde.StatusNotifierItem` on the registering connection): its properties,
//!   including libayatana's `XAyatanaLabel`, which is where a tray "title" goes on Linux.
//! - The menu (`com.canonical.dbusmenu` at the item's `Menu` path): `GetLayout` read into a
//!   tree of [`MenuEntry`], and `Event(id, "clicked", …)` to press an entry.
//!
//! Start it before the app: libayatana-appindicator registers when the watcher is there at
//! start and otherwise only after its XEmbed fallback, later.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use zbus::fdo::{DBusProxy, PropertiesProxy};
use zbus::message::Header;
use zbus::names::InterfaceName;
use zbus::object_server::SignalEmitter;
use zbus::{Connection, MatchRule, MessageStream, OwnedObjectPath, OwnedVariant, Variant};

use crate::bus_service::{Recorded, ServiceThread};

const NAME: &str = "org.kde.StatusNotifierWatcher";
const PATH: &str = "/StatusNotifierWatcher";
const ITEM_INTERFACE: &str = "org.kde.StatusNotifierItem";
const MENU_INTERFACE: &str = "com.canonical.dbusmenu";
/// Where an item lives when it registers by bus name rather than by path (the spec's default).
const DEFAULT_ITEM_PATH: &str = "/StatusNotifierItem";
/// How often [`StatusNotifierWatcher::wait_for_tray`] reads the tray again when the item
/// announced nothing: not every change comes with a signal (libdbusmenu batches its own).
const REREAD_EVERY: Duration = Duration::from_millis(250);

/// A registered item: the connection that registered and the path of its object there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredItem {
    /// The unique bus name (`:1.42`) of the registering connection, or the name it gave.
    pub service: String,
    pub path: String,
}

impl RegisteredItem {
    /// As `RegisteredStatusNotifierItems` lists it: the service followed by the path.
    fn listed(&self) -> String {
        format!("{}{}", self.service, self.path)
    }
}

#[derive(Default)]
struct Log {
    items: Vec<RegisteredItem>,
    hosts: Vec<String>,
}

/// The item's properties that a test asserts on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemProperties {
    pub id: String,
    pub title: String,
    /// libayatana's `XAyatanaLabel`: the text beside the icon (tray-icon's "title" on Linux).
    pub label: String,
    /// `Passive`, `Active` or `NeedsAttention`.
    pub status: String,
    /// An icon theme name, or (as libayatana does for an icon given as pixels) a file path.
    pub icon_name: String,
    /// The bytes of the file `icon_name` names, read with the other properties, as a panel
    /// loads it when the name changes. `None` when the name is not a path or the file is gone
    /// (libayatana's caller replaced the icon, and a later read will see the new name).
    pub icon_file: Option<Vec<u8>>,
    pub icon_theme_path: String,
    /// `(width, height, ARGB32 bytes)` per size; empty when the icon goes by name.
    pub icon_pixmap: Vec<(i32, i32, Vec<u8>)>,
    /// Where the item's `com.canonical.dbusmenu` object is.
    pub menu: String,
}

/// One entry of a dbusmenu layout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MenuEntry {
    pub id: i32,
    /// The label without its mnemonic underscores (`_Quit` → `Quit`; `__` stays one `_`).
    pub label: String,
    pub enabled: bool,
    pub visible: bool,
    /// `standard` or `separator`.
    pub kind: String,
    /// `checkmark` or `radio` for an entry with a tick; empty otherwise.
    pub toggle_type: String,
    /// 1 ticked, 0 not, -1 undetermined (only meaningful with a `toggle_type`).
    pub toggle_state: i32,
    pub children: Vec<MenuEntry>,
}

impl MenuEntry {
    /// The entry at the end of `labels`, each a child of the one before, from this entry.
    pub fn find(&self, labels: &[&str]) -> Option<&MenuEntry> {
        let Some((first, rest)) = labels.split_first() else {
            return Some(self);
        };
        self.children
            .iter()
            .find(|c| c.label == *first)
            .and_then(|c| c.find(rest))
    }

    /// The labels of the children that are shown, in order (separators as `—`).
    pub fn labels(&self) -> Vec<String> {
        self.children
            .iter()
            .filter(|c| c.visible)
            .map(|c| {
                if c.kind == "separator" {
                    "—".to_owned()
                } else {
                    c.label.clone()
                }
            })
            .collect()
    }
}

/// What a panel would show of one item: its properties and its menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tray {
    pub properties: ItemProperties,
    pub menu: MenuEntry,
}

/// The test watcher; see the module documentation. Dropping it releases the name and stops
/// its thread.
pub struct StatusNotifierWatcher {
    shared: Arc<Recorded<Log>>,
    service: ServiceThread,
}

impl StatusNotifierWatcher {
    /// Owns `org.kde.StatusNotifierWatcher` on the bus at `dbus_address` (a
    /// [`crate::DesktopSession`]'s `dbus_address`). Panics when the name is already owned.
    pub async fn start(dbus_address: &str) -> Self {
        let shared = Arc::new(Recorded::<Log>::new());
        let address = dbus_address.to_owned();
        let serving = Arc::clone(&shared);
        let service = ServiceThread::start("status-notifier-watcher", NAME, move || async move {
            serve(&address, serving).await
        })
        .await
        .unwrap_or_else(|why| panic!("the test StatusNotifierWatcher on {dbus_address}: {why}"));
        Self { shared, service }
    }

    /// The items registered now, in the order they registered.
    pub fn items(&self) -> Vec<RegisteredItem> {
        self.shared.log().items.clone()
    }

    /// Awaits the first item to register (the app's tray icon, in a session with one app).
    pub async fn wait_for_item(&self, within: Duration) -> RegisteredItem {
        self.shared
            .wait_for(
                within,
                "a tray item to register with the StatusNotifierWatcher",
                |log| log.items.first().cloned(),
                |log| format!("hosts registered: {:?}", log.hosts),
            )
            .await
    }

    /// Awaits the moment `item` is no longer registered: its connection left the bus (the
    /// app quit) or it unregistered.
    pub async fn wait_for_item_gone(&self, item: &RegisteredItem, within: Duration) {
        self.shared
            .wait_for(
                within,
                &format!("the tray item {} to go", item.listed()),
                |log| (!log.items.contains(item)).then_some(()),
                |log| format!("items registered: {:?}", log.items),
            )
            .await;
    }

    /// The item's properties and menu (`GetLayout(0, -1, [])`, from the root) now.
    pub async fn tray(&self, item: &RegisteredItem) -> Tray {
        let connection = self.service.connection.clone();
        let item = item.clone();
        self.service
            .run(async move { read_tray(&connection, &item).await })
            .await
            .unwrap_or_else(|why| panic!("read the tray: {why}"))
    }

    /// Awaits the first time `check` finds what it looks for in the tray, reading it again
    /// on every signal the item's connection sends (a new label, icon or menu layout) and at
    /// least every [`REREAD_EVERY`]. Panics after `within` with `description` and the tray
    /// as last read.
    pub async fn wait_for_tray<T: Send + 'static>(
        &self,
        item: &RegisteredItem,
        within: Duration,
        description: &str,
        check: impl FnMut(&Tray) -> Option<T> + Send + 'static,
    ) -> T {
        let connection = self.service.connection.clone();
        let item = item.clone();
        let answer = self
            .service
            .run(async move { wait_for_tray(&connection, &item, within, check).await })
            .await;
        match answer {
            Ok(found) => found,
            Err(last) => {
                panic!("waited {within:?} for {description}; the tray as last read: {last}")
            }
        }
    }

    /// Presses the menu entry at the end of `labels` (each a submenu's entry, from the root)
    /// as a panel does: `Event(id, "clicked", "", time)`. The menu is read just before, since
    /// an app that rebuilds its menu gives the entries new ids; a press that lands on an id
    /// gone meanwhile (the server answers an error) is made again on the new menu. Panics
    /// when no such entry is shown and enabled.
    pub async fn click(&self, item: &RegisteredItem, labels: &[&str]) {
        let connection = self.service.connection.clone();
        let item = item.clone();
        let labels: Vec<String> = labels.iter().map(|l| (*l).to_owned()).collect();
        self.service
            .run(async move { click(&connection, &item, &labels).await })
            .await
            .unwrap_or_else(|why| panic!("press a tray menu entry: {why}"));
    }
}

/// Connects, serves the watcher, then owns the name; also follows the bus's
/// `NameOwnerChanged` to unregister items whose connection left.
async fn serve(
    address: &str,
    shared: Arc<Recorded<Log>>,
) -> Result<crate::bus_service::Served, String> {
    let connection = zbus::connection::Builder::address(address)
        .serve_at(
            PATH,
            Watcher {
                shared: Arc::clone(&shared),
            },
        )
        .name(NAME)
        .replace_existing_names(false)
        .allow_name_replacements(false)
        .build()
        .await
        .map_err(|why| match why {
            zbus::Error::NameTaken => format!("{NAME} is already owned on this bus"),
            why => format!("cannot serve {NAME}: {why}"),
        })?;
    let bus = DBusProxy::new(&connection)
        .await
        .map_err(|why| format!("the bus's own interface: {why}"))?;
    let mut owners = bus
        .receive_name_owner_changed()
        .await
        .map_err(|why| format!("cannot follow NameOwnerChanged: {why}"))?;
    let emitting = connection.clone();
    let departures = tokio::spawn(async move {
        while let Some(change) = owners.next().await {
            let Ok(args) = change.args() else { continue };
            if args.new_owner().is_some() {
                continue;
            }
            let name = args.name().to_string();
            let gone: Vec<RegisteredItem> = shared.update(|log| {
                log.hosts.retain(|h| *h != name);
                let (gone, kept) = log.items.drain(..).partition(|i| i.service == name);
                log.items = kept;
                gone
            });
            if let Ok(emitter) = SignalEmitter::new(&emitting, PATH) {
                for item in gone {
                    let _ =
                        Watcher::status_notifier_item_unregistered(&emitter, &item.listed()).await;
                }
            }
        }
    });
    Ok((connection, vec![departures]))
}

struct Watcher {
    shared: Arc<Recorded<Log>>,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    /// `service` is an object path on the caller's connection (libayatana-appindicator sends
    /// `/org/ayatana/NotificationItem/<id>`) or a bus name whose item is at the default path.
    async fn register_status_notifier_item(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        service: String,
    ) -> zbus::fdo::Result<()> {
        let sender = header
            .sender()
            .map(|s| s.to_string())
            .ok_or_else(|| zbus::fdo::Error::InvalidArgs("no sender".to_owned()))?;
        let item = if service.starts_with('/') {
            RegisteredItem {
                service: sender,
                path: service,
            }
        } else {
            RegisteredItem {
                service,
                path: DEFAULT_ITEM_PATH.to_owned(),
            }
        };
        let new = self.shared.update(|log| {
            let new = !log.items.contains(&item);
            if new {
                log.items.push(item.clone());
            }
            new
        });
        if new {
            Self::status_notifier_item_registered(&emitter, &item.listed()).await?;
        }
        Ok(())
    }

    async fn register_status_notifier_host(
        &self,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        service: String,
    ) -> zbus::fdo::Result<()> {
        self.shared.update(|log| log.hosts.push(service));
        Self::status_notifier_host_registered(&emitter).await?;
        Ok(())
    }

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.shared
            .log()
            .items
            .iter()
            .map(RegisteredItem::listed)
            .collect()
    }

    /// The test itself is the host that shows the items.
    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }

    #[zbus(signal)]
    async fn status_notifier_item_registered(
        emitter: &SignalEmitter<'_>,
        service: &str,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn status_notifier_item_unregistered(
        emitter: &SignalEmitter<'_>,
        service: &str,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn status_notifier_host_registered(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn status_notifier_host_unregistered(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;
}

async fn read_properties(
    connection: &Connection,
    item: &RegisteredItem,
) -> zbus::Result<ItemProperties> {
    let properties = PropertiesProxy::builder(connection)
        .destination(item.service.clone())
        .path(item.path.clone())
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await?;
    let all = properties
        .get_all(InterfaceName::from_static_str_unchecked(ITEM_INTERFACE))
        .await?;
    let text = |name: &str| {
        all.get(name)
            .and_then(|v| String::try_from(v.clone()).ok())
            .unwrap_or_default()
    };
    let menu = all
        .get("Menu")
        .and_then(|v| OwnedObjectPath::try_from(v.clone()).ok())
        .map(|p| p.to_string())
        .unwrap_or_default();
    let icon_pixmap = all
        .get("IconPixmap")
        .and_then(|v| Vec::<(i32, i32, Vec<u8>)>::try_from(v.clone()).ok())
        .unwrap_or_default();
    let icon_name = text("IconName");
    let icon_file = if std::path::Path::new(&icon_name).is_absolute() {
        tokio::fs::read(&icon_name).await.ok()
    } else {
        None
    };
    Ok(ItemProperties {
        id: text("Id"),
        title: text("Title"),
        label: text("XAyatanaLabel"),
        status: text("Status"),
        icon_name,
        icon_file,
        icon_theme_path: text("IconThemePath"),
        icon_pixmap,
        menu,
    })
}

/// A dbusmenu layout node as `GetLayout` sends it: `(ia{sv}av)`.
type Layout = (i32, HashMap<String, OwnedVariant>, Vec<OwnedVariant>);

async fn read_menu(
    connection: &Connection,
    item: &RegisteredItem,
    menu: &str,
) -> zbus::Result<MenuEntry> {
    let reply = connection
        .call_method(
            Some(item.service.as_str()),
            menu,
            Some(MENU_INTERFACE),
            "GetLayout",
            &(0i32, -1i32, Vec::<String>::new()),
        )
        .await?;
    let (_revision, root): (u32, Layout) = reply.body().deserialize()?;
    Ok(entry(root.0, &root.1, &root.2))
}

async fn read_tray(connection: &Connection, item: &RegisteredItem) -> zbus::Result<Tray> {
    let properties = read_properties(connection, item).await?;
    let menu = read_menu(connection, item, &properties.menu).await?;
    Ok(Tray { properties, menu })
}

/// One layout node, with the defaults the dbusmenu specification gives absent properties.
fn entry(
    id: i32,
    properties: &HashMap<String, OwnedVariant>,
    children: &[OwnedVariant],
) -> MenuEntry {
    let text = |name: &str| {
        properties
            .get(name)
            .and_then(|v| String::try_from(v.clone()).ok())
    };
    let flag = |name: &str| {
        properties
            .get(name)
            .and_then(|v| bool::try_from(v.clone()).ok())
            .unwrap_or(true)
    };
    MenuEntry {
        id,
        label: without_mnemonics(&text("label").unwrap_or_default()),
        enabled: flag("enabled"),
        visible: flag("visible"),
        kind: text("type").unwrap_or_else(|| "standard".to_owned()),
        toggle_type: text("toggle-type").unwrap_or_default(),
        toggle_state: properties
            .get("toggle-state")
            .and_then(|v| i32::try_from(v.clone()).ok())
            .unwrap_or(-1),
        children: children.iter().filter_map(|c| child(c)).collect(),
    }
}

/// A child of the layout: an `(ia{sv}av)` structure inside a variant.
fn child(value: &Variant<'_>) -> Option<MenuEntry> {
    match value {
        Variant::Variant(inner) => child(inner),
        Variant::Structure(node) => {
            let fields = node.fields();
            let Variant::I32(id) = fields.first()? else {
                return None;
            };
            let Variant::Dict(dict) = fields.get(1)? else {
                return None;
            };
            let properties: HashMap<String, OwnedVariant> = dict
                .iter()
                .filter_map(|(k, v)| {
                    let key = String::try_from(k.try_clone().ok()?).ok()?;
                    // An `a{sv}` value read by hand is still wrapped in its variant.
                    let v = match v {
                        Variant::Variant(inner) => inner.as_ref(),
                        plain => plain,
                    };
                    let value = OwnedVariant::try_from(v.try_clone().ok()?).ok()?;
                    Some((key, value))
                })
                .collect();
            let Variant::Array(children) = fields.get(2)? else {
                return None;
            };
            let children: Vec<OwnedVariant> = children
                .inner()
                .iter()
                .filter_map(|c| OwnedVariant::try_from(c.try_clone().ok()?).ok())
                .collect();
            Some(entry(*id, &properties, &children))
        }
        _ => None,
    }
}

/// GTK labels mark their access key with `_`; a literal underscore is `__`.
fn without_mnemonics(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    let mut chars = label.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '_' {
            if chars.peek() == Some(&'_') {
                chars.next();
                out.push('_');
            }
        } else {
            out.push(c);
        }
    }
    out
}

async fn wait_for_tray<T>(
    connection: &Connection,
    item: &RegisteredItem,
    within: Duration,
    mut check: impl FnMut(&Tray) -> Option<T>,
) -> Result<T, String> {
    let deadline = tokio::time::Instant::now() + within;
    // Subscribed before the first read: a change after it is then never missed.
    let rule = MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .sender(item.service.as_str())
        .build()
        .map_err(|why| why.to_string())?;
    let mut signals =
        MessageStream::for_match_rule(rule, connection, std::num::NonZeroUsize::new(64))
            .await
            .map_err(|why| why.to_string())?;
    let mut last;
    loop {
        match read_tray(connection, item).await {
            Ok(tray) => {
                if let Some(found) = check(&tray) {
                    return Ok(found);
                }
                last = format!("{tray:#?}");
            }
            Err(why) => last = format!("unreadable: {why}"),
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(last);
        }
        // Woken by the item's next signal, or read again after a while regardless.
        let _ = tokio::time::timeout_at((now + REREAD_EVERY).min(deadline), signals.next()).await;
    }
}

async fn click(
    connection: &Connection,
    item: &RegisteredItem,
    labels: &[String],
) -> Result<(), String> {
    let wanted: Vec<&str> = labels.iter().map(String::as_str).collect();
    for _attempt in 0..3 {
        let tray = read_tray(connection, item)
            .await
            .map_err(|why| format!("read the menu: {why}"))?;
        let Some(entry) = tray.menu.find(&wanted) else {
            return Err(format!("no entry {wanted:?} in the menu {:#?}", tray.menu));
        };
        if !entry.enabled || !entry.visible {
            return Err(format!(
                "the entry {wanted:?} cannot be pressed: {entry:#?}"
            ));
        }
        let time = u32::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default(),
        )
        .unwrap_or_default();
        let pressed = connection
            .call_method(
                Some(item.service.as_str()),
                tray.properties.menu.as_str(),
                Some(MENU_INTERFACE),
                "Event",
                &(entry.id, "clicked", Variant::from(""), time),
            )
            .await;
        match pressed {
            Ok(_) => return Ok(()),
            // libdbusmenu answers an error for an id it no longer has: the menu was rebuilt
            // between the read and the press; read it again.
            Err(zbus::Error::MethodError(_, message, _)) => {
                eprintln!(
                    "tray entry {wanted:?} was replaced before the press ({message:?}); again"
                );
            }
            Err(why) => return Err(format!("Event on {wanted:?}: {why}")),
        }
    }
    Err(format!(
        "the menu kept changing under the press on {wanted:?}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mnemonics_are_dropped_and_double_underscores_kept() {
        assert_eq!(without_mnemonics("_Quit"), "Quit");
        assert_eq!(without_mnemonics("a__b"), "a_b");
        assert_eq!(without_mnemonics("年假 — 沈月"), "年假 — 沈月");
    }
}

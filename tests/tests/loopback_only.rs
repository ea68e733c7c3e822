//! Nothing the tests start listens off loopback: every component of the live stack (Prometheus,
//! Alertmanager and Jaeger, as local processes and as containers on the host network, in both
//! generations) and the aggregator with its demo backends.
//!
//! The kernel's socket tables (`/proc/net/{tcp,tcp6,udp,udp6}`) are read before and after each
//! start: every listening socket that appears must be bound to a loopback address. Sockets that
//! were already there (the machine's own services) are not this project's and are left out.
//! This file runs alone in its test binary, and its tests take turns, so what appears is what
//! the test started.

use only1mcp_obs_e2e::mcp_http::Aggregator;
use only1mcp_obs_testkit::backend::Backend;
use only1mcp_obs_testkit::generation::Generation;
use only1mcp_obs_testkit::stack::LiveStack;
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Mutex, MutexGuard};

/// A listening socket: protocol, address, port.
type Listener = (&'static str, IpAddr, u16);

/// The tests compare socket tables: they take turns.
fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Every listening TCP socket and every unconnected UDP socket of this network namespace.
fn listeners() -> BTreeSet<Listener> {
    let mut all = BTreeSet::new();
    // TCP state 0A is LISTEN; UDP state 07 is an unconnected (receiving) socket.
    for (file, protocol, state) in [
        ("/proc/net/tcp", "tcp", "0A"),
        ("/proc/net/tcp6", "tcp", "0A"),
        ("/proc/net/udp", "udp", "07"),
        ("/proc/net/udp6", "udp", "07"),
    ] {
        let Ok(table) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in table.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.get(3) != Some(&state) {
                continue;
            }
            let local = fields.get(1).and_then(|l| parse_endpoint(l));
            let local = local.unwrap_or_else(|| panic!("unreadable line of {file}: {line}"));
            all.insert((protocol, local.0, local.1));
        }
    }
    all
}

/// `0100007F:1F90` (IPv4) or 32 hex digits then `:port` (IPv6), in the kernel's byte order:
/// each 32-bit word of the address is in host (little-endian here) order.
fn parse_endpoint(text: &str) -> Option<(IpAddr, u16)> {
    let (address, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Vec<u32> = (0..address.len() / 8)
        .map(|i| u32::from_str_radix(address.get(i * 8..i * 8 + 8)?, 16).ok())
        .collect::<Option<_>>()?;
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
    let ip = match bytes.len() {
        4 => IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
        16 => {
            let octets: [u8; 16] = bytes.try_into().ok()?;
            IpAddr::V6(Ipv6Addr::from(octets))
        }
        _ => return None,
    };
    Some((ip, port))
}

/// Loopback, including an IPv4 loopback address mapped into IPv6.
fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Runs `start`, then checks what began listening while it ran, which must be something.
fn only_loopback<T>(what: &str, start: impl FnOnce() -> T) {
    let before = listeners();
    let running = start();
    let after = listeners();
    let new: Vec<&Listener> = after.difference(&before).collect();
    assert!(
        !new.is_empty(),
        "{what}: no new listening socket seen, so the check saw nothing"
    );
    let exposed: Vec<String> = new
        .iter()
        .filter(|(_, ip, _)| !is_loopback(*ip))
        .map(|(protocol, ip, port)| format!("{protocol} {ip}:{port}"))
        .collect();
    assert!(
        exposed.is_empty(),
        "{what} listens off loopback: {exposed:?} (all new: {new:?})"
    );
    eprintln!("[{what}] {} new sockets, all on loopback", new.len());
    drop(running);
}

fn stack(backend: Backend, generation: Generation) {
    let test = format!("loopback_only[{backend}, {}]", generation.short());
    if !backend.announce_for(&test, generation) {
        return;
    }
    let _guard = exclusive();
    only_loopback(&test, || {
        LiveStack::builder(backend)
            .generation(generation)
            .with_alertmanager()
            .start()
            .expect("live stack")
    });
}

#[test]
fn the_stack_on_processes_prometheus3_listens_on_loopback_only() {
    stack(Backend::Process, Generation::Current);
}

#[test]
fn the_stack_on_processes_prometheus2_listens_on_loopback_only() {
    stack(Backend::Process, Generation::Legacy);
}

#[test]
fn the_stack_on_containers_prometheus3_listens_on_loopback_only() {
    stack(Backend::Container, Generation::Current);
}

#[test]
fn the_stack_on_containers_prometheus2_listens_on_loopback_only() {
    stack(Backend::Container, Generation::Legacy);
}

#[test]
fn the_aggregator_and_its_demo_backends_listen_on_loopback_only() {
    let _guard = exclusive();
    only_loopback("aggregator", || Aggregator::start(&[], &[]));
}

#[test]
fn the_kernel_tables_are_read_right() {
    assert_eq!(
        parse_endpoint("0100007F:1F90"),
        Some((IpAddr::V4(Ipv4Addr::LOCALHOST), 8080))
    );
    assert_eq!(
        parse_endpoint("00000000000000000000000001000000:0016"),
        Some((IpAddr::V6(Ipv6Addr::LOCALHOST), 22))
    );
    let mapped = parse_endpoint("0000000000000000FFFF00000100007F:0050").expect("mapped");
    assert!(is_loopback(mapped.0));
    assert!(!is_loopback(
        parse_endpoint("00000000:0050").expect("any").0
    ));
    assert_eq!(parse_endpoint("zz:1"), None);
    // This process's own listener is seen, so the tables are read at all.
    let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = socket.local_addr().expect("addr").port();
    assert!(
        listeners().contains(&("tcp", IpAddr::V4(Ipv4Addr::LOCALHOST), port)),
        "own listener 127.0.0.1:{port} not in /proc/net/tcp"
    );
}

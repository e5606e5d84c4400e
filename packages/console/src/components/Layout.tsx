import type { ReactNode } from 'react';
import { NavLink, useNavigate } from 'react-router';
import { useSession } from '../session.tsx';

/** The frame of every signed-in page: navigation, the boss console for admins, the user. */
export function Layout(props: { children: ReactNode }) {
  const { user, signOut } = useSession();
  const navigate = useNavigate();
  return (
    <div className="app">
      <header>
        <NavLink to="/" className="brand">
          LeEngine
        </NavLink>
        <nav>
          <NavLink to="/" end>
            Home
          </NavLink>
          <NavLink to="/applications">Applications</NavLink>
          <NavLink to="/images">Images</NavLink>
          <NavLink to="/builds">Builds</NavLink>
          <NavLink to="/help">Help</NavLink>
          {user?.admin ? (
            <NavLink to="/boss" className="boss">
              Boss
            </NavLink>
          ) : null}
        </nav>
        <span className="user">
          <NavLink to="/user" title="your settings: access tokens, password">
            {user?.displayName || user?.username}
          </NavLink>
          <button
            type="button"
            className="link"
            onClick={() => void signOut().then(() => navigate('/login'))}
          >
            Sign out
          </button>
        </span>
      </header>
      <main>{props.children}</main>
    </div>
  );
}

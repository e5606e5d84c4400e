import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router';
import { BossPage } from './boss/BossPage.tsx';
import { Layout } from './components/Layout.tsx';
import { ApplicationPage, ApplicationsPage } from './pages/ApplicationPages.tsx';
import { BuildLogPage, BuildProjectPage, BuildsPage } from './pages/BuildPages.tsx';
import { HelpPage } from './pages/HelpPage.tsx';
import { HomePage } from './pages/HomePage.tsx';
import { ImageGroupPage, ImageRepositoryPage, ImagesPage } from './pages/ImagePages.tsx';
import { LoginPage } from './pages/LoginPage.tsx';
import { UserPage } from './pages/UserPage.tsx';
import { SessionProvider, useSession } from './session.tsx';
import './styles.css';

function Signed() {
  const { user, loading } = useSession();
  if (loading) return <p className="muted">Loading…</p>;
  if (!user) return <Navigate to="/login" replace />;
  return (
    <Layout>
      <Routes>
        <Route path="/" element={<HomePage />} />
        <Route path="/applications" element={<ApplicationsPage />} />
        <Route path="/applications/:name" element={<ApplicationPage />} />
        <Route path="/images" element={<ImagesPage />} />
        <Route path="/images/:group" element={<ImageGroupPage />} />
        <Route path="/images/:group/:name" element={<ImageRepositoryPage />} />
        <Route path="/builds" element={<BuildsPage />} />
        <Route path="/builds/:name" element={<BuildProjectPage />} />
        <Route path="/builds/:name/:number" element={<BuildLogPage />} />
        <Route path="/help" element={<HelpPage />} />
        <Route path="/user" element={<UserPage />} />
        {user.admin ? <Route path="/boss" element={<BossPage />} /> : null}
        <Route path="*" element={<p>Nothing here.</p>} />
      </Routes>
    </Layout>
  );
}

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <BrowserRouter>
        <SessionProvider>
          <Routes>
            <Route path="/login" element={<LoginPage />} />
            <Route path="*" element={<Signed />} />
          </Routes>
        </SessionProvider>
      </BrowserRouter>
    </StrictMode>,
  );
}
